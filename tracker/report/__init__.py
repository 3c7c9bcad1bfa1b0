"""Stage 4, report: the database in, the weekly narrative report out (Markdown, HTML, PDF).
"""
