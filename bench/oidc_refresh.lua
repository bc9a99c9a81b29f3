-- wrk script: refresh_token grants where every connection follows its own rotation chain.
-- The first refresh tokens come from the file $TOKENS (one per line, at least as many as
-- connections); each answer's new refresh token is used by the next request, so every counted
-- request is a valid rotation. $AUTH is the Authorization header of the client.
local tokens = {}
local auth = os.getenv("AUTH")
local failures = 0

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    if #line > 0 then table.insert(tokens, line) end
  end
end

function request()
  local rt = table.remove(tokens) or "none"
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, "grant_type=refresh_token&refresh_token=" .. rt)
end

function response(status, headers, body)
  local rt = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  local has_id = body:find('"id_token"', 1, true)
  if status == 200 and rt and has_id then
    table.insert(tokens, rt)
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("refresh failures: %d\n", failures))
end
