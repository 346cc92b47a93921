-- POST /api/sales/upload/: 1,000 rows per request, each row its own transaction, all new. Each thread
-- (connection) uploads to a project of its own: one upload per project runs at a time.
dofile("common.lua")
local products, customers, basic

function start()
  products = read_lines(params.products)
  customers = read_lines(params.customers)
  local uploads = read_lines(params.uploads)
  basic = uploads[(thread_id - 1) % #uploads + 1]
end

function request()
  local rows = {}
  for row = 1, 1000 do
    local sale = unique("cb")
    table.insert(rows, string.format(
      '{"sale_external_id": "%s", "sale_customer_id": "%s", "sale_date": "2026-01-15T10:00:00Z", '
        .. '"external_id": "%s-1", "product_id": "%s", "unit_price": 1250, "quantity": 2}',
      sale, customers[(counter * 13) % #customers + 1], sale, products[(counter * 31) % #products + 1]))
  end
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Basic " .. basic}
  return wrk.format("POST", "/api/sales/upload/", headers, '{"sales": [' .. table.concat(rows, ", ") .. ']}')
end
