"""The report stage's library: load the metrics, check the study's claims, render README + HTML."""
