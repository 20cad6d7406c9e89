-- A mixed read/write scenario for wrk: TOKEN signs in, ITEM_ID names an item
-- of that user. 40 % profile reads, 25 % item reads, 10 % lists of 100, 15 %
-- creates, 10 % edits.
local token = os.getenv("TOKEN")
local item = os.getenv("ITEM_ID")
wrk.headers["authorization"] = "Bearer " .. token
wrk.headers["content-type"] = "application/json"

local sent = 0
request = function()
  sent = sent + 1
  local pick = math.random(100)
  if pick <= 40 then
    return wrk.format("GET", "/api/v1/users/me")
  elseif pick <= 65 then
    return wrk.format("GET", "/api/v1/items/" .. item)
  elseif pick <= 75 then
    return wrk.format("GET", "/api/v1/items?limit=100")
  elseif pick <= 90 then
    return wrk.format("POST", "/api/v1/items", nil, '{"name":"load","description":"mixed"}')
  else
    return wrk.format("PUT", "/api/v1/items/" .. item, nil, '{"description":"edit ' .. sent .. '"}')
  end
end
