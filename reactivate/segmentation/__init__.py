"""Customer profiles: the analyst-editable segmentation spec, the clustering, and saved models.

``spec`` reads the segment spec (features, carve-outs, k), ``cluster`` fits and assigns segments
(the :class:`~reactivate.segmentation.cluster.Segmenter`), ``store`` saves models and measures drift.
"""
