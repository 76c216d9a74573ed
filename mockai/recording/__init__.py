"""Record through a proxy, replay offline: cassettes on disk, request keys, scrubbing, the upstream proxy."""
