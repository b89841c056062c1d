-- attempts: SUMMARIZE as the whole model
SUMMARIZE deaths
