-- disconnect the bank connections and blank their tokens
UPDATE bank_connection
   SET state = 'draft',
       api_token = NULL;

-- deactivate the addon's crons (bank sync, GetState checks, outgoing payments' follow-up, ...)
UPDATE ir_cron
   SET active = false
 WHERE id IN (
       SELECT res_id
         FROM ir_model_data
        WHERE model = 'ir.cron'
          AND module = 'odoo_bank_crm'
);
