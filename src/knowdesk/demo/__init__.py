"""The demo workspace "Lumio Home": a fictional smart-home company with a bilingual knowledge
base, so that a fresh install has something real to answer from (`knowdesk demo load`)."""
