-- 32 clients buy the same 10 products (one unit of each per sale) until their stock runs out:
-- every sale either reserves all 10 units or is refused with 409, never oversold, never deadlocked.
dofile("common.lua")
local body

function start()
  local lines = {}
  for _, product in ipairs(read_lines(params.products)) do
    table.insert(lines, string.format('{"productId": "%s", "quantity": 1}', product))
  end
  body = '{"products": [' .. table.concat(lines, ", ") .. ']}'
end

function request()
  kind = "create"
  return wrk.format("POST", "/sells", json_headers(), body)
end
