-- The "empty policy set" of `make bench`: every socket is accepted (anonymous) and every
-- room may be joined and every document read and written. No security work at all: the
-- baseline the stock policies' cost is measured against. Never deploy this.

local px = require "palisade"

return {
  authenticate = function() return { anonymous = true } end,
  authorize = function() return px.allow() end,
}
