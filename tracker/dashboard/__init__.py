"""The dashboard: the plan at a glance for the task force's meetings, served by the web process.

``views`` computes what is shown (pure), ``access`` decides who sees it,
``pages`` serves it; ``templates/`` and ``static/`` are its HTML and CSS.
"""
