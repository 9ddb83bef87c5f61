"""The desktop app's controllers: each group of the window's actions in its own object, built by the main
window (app/ui/main_window.py, which only lays out the panels and the menus) and wired to its panels.

- tasks: one-off work on a worker thread (TaskRunner), shared by the bench and host-key actions
- bench: the bench in use; find instruments, test the connection, auto-range, zero the current channel
- live: the live view's run and stop
- capture: start, cancel, and the end of a capture (results, review, message)
- campaign: start, cancel, and the end of a campaign
- host_keys: the question "trust this board's SSH host key?"
- review: review a run, open a session, and the File menu's exports
- export and notes: the session browser's exports (the formats of app/report/formats.py) and notes at the
  markers; made by the session browser for the session it shows

A controller takes its panel(s), the window's message bar (`notices`: show_error, show_info, clear) and
plain callables for what it needs of the others (the bench in use, stop the live view, bring a panel to the
front), so each can be built and tested alone. Controllers import widgets and the layers below; never the
main window nor one another (tasks aside)."""
