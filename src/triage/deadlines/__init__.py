"""Business time: calendars, durations, due times, the deadline planner, escalation specs.

Owns working hours, Chinese holidays and make-up working days (``calendar``), adding
working time and pausing it (``durations``), how staff read a due time (``datefmt``),
merging the milestones a decision's rules set (``planner``) and the escalation triggers
(``escalation``). Runtime only: may import ``errors``, ``_frozen`` and ``text``; never the
policy language, the engine or the front.
"""
