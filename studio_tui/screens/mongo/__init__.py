"""MongoDB screens: the browser and its tools."""
