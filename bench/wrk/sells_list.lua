-- GET /sells: the first page of the key user's sales, with totals over all of them.
dofile("common.lua")

function request()
  kind = "list"
  return wrk.format("GET", "/sells", json_headers(), nil)
end
