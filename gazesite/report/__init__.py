"""``gazesite report``: turn gaze sample files (and a collection database) into a static study report.

Stages, each in its own module: ``read`` (bounded, validated sample files into
sessions), ``quality`` (data quality and exclusions), ``fixations`` (I-DT on the raw
points, as pymovements computes it), ``aoi`` (areas of interest), ``heatmap``
(heatmaps and gaze plots as PNG), ``html`` (the report folder).
"""
