"""Learning: labelled texts, stored article vectors and mentions in; a trained narrative head,
metrics, discovered topics and story clusters out.

``tracker train`` fits the head that :mod:`tracker.enrich.classifier` loads;
``tracker eval`` measures precision, recall and F1 on a labelled file;
``tracker discover`` finds topics no narrative covers yet (:mod:`.discover`,
:mod:`.discover_store`, :mod:`.topics`) and ``tracker stories`` / the nightly run group
same-event articles into story clusters (:mod:`.stories`).
"""
