"""Campaign and data settings: the reviewed TOML specs read into frozen, typed objects.

``campaign`` holds the campaign spec (channels, capacities, waves, policies) and its checks;
``toml`` reads TOML files and builds frozen dataclasses from them (shared with the segmentation spec);
``shipped`` finds the default specs shipped in the package (``defaults/``: ``campaigns/default.toml``,
``segments/default.toml`` and the files they name), the packaged copies of ``campaigns/`` and
``segments/`` at the repository's root.
"""
