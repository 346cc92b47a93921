-- POST /api/sales/create: one product (spread over thousands), its stock deducted at once.
dofile("common.lua")
local products

function start()
  products = read_lines(params.products)
end

function request()
  counter = counter + 1
  local product = products[(thread_id * 7919 + counter * 31) % #products + 1]
  local body = string.format(
    '{"productId": "%s", "quantity": 1, "sellingPrice": 19.99, "category": "bench", "deductInventory": true}', product)
  return wrk.format("POST", "/api/sales/create", json_headers(), body)
end
