-- The floor: authenticate by one indexed lookup, insert one row.
dofile("common.lua")

function request()
  return wrk.format("POST", "/api/bench/floor", json_headers(), "{}")
end
