"""Quality benchmarks: dataset loaders, IR and calibration metrics, and the runner behind
``hybridmem bench quality``."""
