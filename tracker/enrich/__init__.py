"""Stage 2, enrich: stored articles in, entities, claims and narrative scores out.

spaCy NER plus the curated gazetteer link mentions to canonical ids; money and percent
figures become claims tied to an entity; the narrative classifier (MiniLM sentence
embeddings, lexicons and a trained head) scores every article for every narrative.
Models sit behind small Protocols so tests use fakes; every output row records the
versioned names of the models that made it. Two engines run the stages and write the
same rows: ``runner`` in this process, ``ray_engine`` on Ray actors with one writer.
"""
