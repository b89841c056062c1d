-- attempts: DESCRIBE as the whole model
DESCRIBE deaths
