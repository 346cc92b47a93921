-- POST /sales/v1/transactions: a batch of 100 POS transactions (90 sales, 10 refunds).
dofile("common.lua")

function request()
  local transactions = {}
  for index = 1, 100 do
    local refund = index % 10 == 0
    table.insert(transactions, string.format(
      '{"locationId": %s, "saleType": "%s", "createdAt": %d, "finalSaleAmount": %s, "taxAmount": 1.5, '
        .. '"currency": "USD"}',
      params.location, refund and "REFUND" or "SALE", os.time() - index, refund and "-5.25" or "42.10"))
  end
  local headers = {["Content-Type"] = "application/json", ["X-API-KEY"] = params.key}
  return wrk.format("POST", "/sales/v1/transactions", headers,
    '{"transactionsCreateRequest": [' .. table.concat(transactions, ", ") .. ']}')
end
