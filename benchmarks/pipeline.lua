-- wrk script: sends `depth` requests back to back on each connection (HTTP/1.1 pipelining).
-- Usage: wrk -s benchmarks/pipeline.lua http://127.0.0.1:3000/ -- 16
local depth = 16
local batch

function init(args)
  depth = tonumber(args[1]) or 16
  local reqs = {}
  for i = 1, depth do
    reqs[i] = wrk.format(nil, wrk.path)
  end
  batch = table.concat(reqs)
end

function request()
  return batch
end
