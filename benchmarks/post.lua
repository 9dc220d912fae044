-- wrk script: POST /echo with a JSON body (the same body benchmarks/servers/routes.ts echoes).
wrk.method = "POST"
wrk.body = '{"user":"linger","items":[1,2,3],"nested":{"ok":true,"text":"a JSON body of a typical size"}}'
wrk.headers["Content-Type"] = "application/json"
