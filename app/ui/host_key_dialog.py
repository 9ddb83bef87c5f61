"""The unknown-host-key dialog: the operator compares the fingerprint the board presents with the one read on
the board's own console, and can trust it only when the two match."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout


class HostKeyDialog(QDialog):
    def __init__(self, host: str, port: int, presented: str, parent=None):
        super().__init__(parent)
        self.presented = presented
        self.setWindowTitle("Unknown host key")
        layout = QVBoxLayout(self)
        self.message = QLabel(
            f"The board {host} (port {port}) presents a host key that is not trusted yet:\n\n"
            f"    {presented}\n\nOn the board's own console run\n"
            "    ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\n"
            "and type or paste the SHA256 fingerprint it prints. Trust is offered only when they match.")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.typed = QLineEdit()
        self.typed.setPlaceholderText("SHA256:… as read on the board")
        layout.addWidget(self.typed)
        self.status = QLabel("")
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.trust_button = self.buttons.addButton("Trust", QDialogButtonBox.AcceptRole)
        self.trust_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.typed.textChanged.connect(self._compare)

    def text(self) -> str:
        return self.message.text()

    def _compare(self, text: str) -> None:
        text = text.strip()
        match = text == self.presented
        self.trust_button.setEnabled(match)
        if not text:
            self.status.setText("")
        elif match:
            self.status.setText("the fingerprints match")
        else:
            self.status.setText(f"does NOT match what the board presents ({self.presented}): do not trust it")
