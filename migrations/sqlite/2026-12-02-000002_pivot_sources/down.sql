DROP TABLE pivot_sources;
