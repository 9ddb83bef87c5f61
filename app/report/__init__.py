"""Reports from saved sessions: CSV tables and trace exports (tables), the HTML one-pager (html) and figures
drawn with pyqtgraph offscreen (figures: the one module outside app/ui allowed to import Qt). May import
session, measure, bench and system; never capture or ui."""
