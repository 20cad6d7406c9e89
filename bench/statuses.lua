-- wrk: GET PATH_UNDER_LOAD with TOKEN, counting answers by status; `done`
-- prints them as "status count" lines after the "statuses:" line.
local token = os.getenv("TOKEN")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init()
  counts = {}
  wrk.headers["authorization"] = "Bearer " .. token
end

function response(status)
  counts[status] = (counts[status] or 0) + 1
end

function done()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + count
    end
  end
  print("statuses:")
  for status, count in pairs(total) do
    print(status .. " " .. count)
  end
end
