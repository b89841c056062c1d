-- attempts: empty statements and comments before a SET
; -- nothing here
;; /* still nothing */ SET enable_external_access = true
