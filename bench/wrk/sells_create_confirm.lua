-- POST /sells with 3 lines (stock reserved), then PUT /sells/confirm/{id} (reservation deducted).
dofile("common.lua")
local products
local to_confirm

function start()
  products = read_lines(params.products)
end

function request()
  if to_confirm then
    kind, to_confirm = "confirm", nil
    return wrk.format("PUT", "/sells/confirm/" .. last_id, json_headers(), "{}")
  end
  kind = "create"
  counter = counter + 1
  local lines = {}
  for line = 1, 3 do
    local product = products[(thread_id * 7919 + counter * 97 + line * 1009) % #products + 1]
    table.insert(lines, string.format('{"productId": "%s", "quantity": %d, "price": 12.5}', product, line))
  end
  return wrk.format("POST", "/sells", json_headers(), '{"products": [' .. table.concat(lines, ", ") .. ']}')
end

function after(status, body)
  if kind == "create" and status == 201 then
    last_id = body:match('"id"%s*:%s*"([^"]+)"')
    to_confirm = last_id ~= nil
  end
end
