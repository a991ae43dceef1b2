"""The model runtime: loading, tokenizer, chat formatting, generation and the constrained action decoder.

How a model turns a step into an action, everywhere it acts: ``policy.lam_policy`` / ``lam_generate``
build it from one ``DecodeConfig``; training (``lam_kedro.training``) trains what this package loads
and runs. Imports ``agent`` and ``env``, never ``training``, ``serving`` or ``pipelines``.
"""
