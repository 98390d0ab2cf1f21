-- disable T-Bank acquiring and blank the terminals' credentials
UPDATE payment_provider
   SET state = 'disabled',
       tbank_terminal_key = NULL,
       tbank_password = NULL
 WHERE code = 'tbank';
