-- POST /track/sale as an SDK sends it (every optional field, nulls included), a new invoice each time.
dofile("common.lua")
local customers

function start()
  customers = read_lines(params.customers)
end

function request()
  local invoice = unique("inv")
  local customer = customers[(thread_id * 7919 + counter * 31) % #customers + 1]
  local body = string.format(
    '{"customerExternalId": "%s", "amount": 1999, "currency": "usd", "eventName": "Purchase", '
      .. '"paymentProcessor": "stripe", "invoiceId": "%s", "metadata": null, "leadEventName": null, '
      .. '"clickId": null, "customerName": null, "customerEmail": null, "customerAvatar": null}',
    customer, invoice)
  return wrk.format("POST", "/track/sale", json_headers(), body)
end
