"""Campaign and data settings: the reviewed TOML specs read into frozen, typed objects.

``campaign`` holds the campaign spec (channels, capacities, waves, policies) and its checks;
``toml`` reads TOML files and builds frozen dataclasses from them (shared with the segmentation spec).
"""
