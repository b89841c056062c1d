-- attempts: EXPORT DATABASE writes files
EXPORT DATABASE '/tmp/collide_attack_export'
