"""Session files: the HDF5 layout (format), writing (writer), reading (reader), the overview pyramid,
annotations and the attribute writer. May import app.measure and below; never capture, report or ui."""
