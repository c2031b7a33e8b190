{#- The audio features the analysis marts average and correlate: the continuous ones (key, mode
    and time signature are categories, not measures). -#}
{% macro audio_features() -%}
    {{ return([
        'danceability', 'energy', 'speechiness', 'acousticness', 'instrumentalness', 'liveness',
        'valence', 'loudness', 'tempo',
    ]) }}
{%- endmacro %}
