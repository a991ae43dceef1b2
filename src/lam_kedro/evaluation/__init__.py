"""Evaluation of LAM generations (paper Sec. 5): offline step metrics, planning metrics, online rollouts.

``offline`` scores teacher-forced steps against the expert's, ``planning`` matches LAM1's plans
to the reference plans, ``online`` runs every actor through ``run_episode`` in the environment,
and ``report`` turns the numbers into the paper-shaped tables, plots and metric dicts that the
evaluation pipeline's catalog entries write (files, DVC, MLflow).
"""
