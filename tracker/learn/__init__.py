"""Learning from labels: labelled texts in, a trained narrative head (JSON) and metrics out.

``tracker train`` fits the head that :mod:`tracker.enrich.classifier` loads;
``tracker eval`` measures precision, recall and F1 on a labelled file.
"""
