"""Time standards: warnings before a step's due date, escalation after it."""
