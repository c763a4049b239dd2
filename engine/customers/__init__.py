"""Customers: who owns each customer, its follow-up strategy, and the log of calls, letters and visits
(issue 14 item 7; seed 261, 270, 344). Records are written by the review of a registration
(engine/runtime/customers.py) and by the commands in `service`; every change is an event in the
`customers` hash chain (`chain`)."""
