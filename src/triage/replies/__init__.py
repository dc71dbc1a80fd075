"""Replies: the reply scripts (话术), their sandbox, rendering and the forbidden-phrase guard.

Owns compiling the Jinja templates of ``scripts_cn/`` in a restricted sandbox
(``scripts``), rendering a decided complaint's reply, in Traditional Chinese when the
customer wrote it (``render``), and finding forbidden phrases (``guard``). May import
``errors``, ``text``, ``complaint``, ``deadlines`` and ``decision``; never the policy
language, the engine or the front.
"""
