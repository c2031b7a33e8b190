import { fixedShareTests } from './fixed-set.js';

fixedShareTests(0);
