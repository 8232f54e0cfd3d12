"""Mail to the OPD (issue 17): receipts and documents through the configured SMTP server.

``queue`` decides what goes to whom and puts it in the store's outbox with a job;
``send`` mails one outbox row from that job; ``message`` builds the message, with every
header from a letter made safe; ``smtp`` speaks to the server. Nothing is sent without an
``[email]`` section.
"""
