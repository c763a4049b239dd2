"""Notifications (issue 13): what a person should know, in the app and by e-mail.

- events.py: who is told what, written in the transaction of the command that caused it
  (a task offered, a request decided) or of the worker pass that noticed it (a task overdue);
- preferences.py: each person's choices per kind, their e-mail address and language;
- texts.py: the words, in Chinese and English;
- reading.py: a person's list, the unread count, marking read;
- outbox.py + smtp.py: the worker sends pending e-mails after commit, each once, with back-off.
"""

KINDS = ("offered", "decided", "overdue")
