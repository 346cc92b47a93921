-- GET /projects/<slug>/: the owner's dashboard over 200,000 sales, logged in by session cookie.
dofile("common.lua")

function request()
  kind = "page"
  local headers = {["Cookie"] = "sessionid=" .. params.session}
  return wrk.format("GET", "/projects/" .. params.project .. "/", headers, nil)
end
