// Internal to smtpclient: replies the client makes up for commands it did
// not send (a local check failed).
#pragma once

#include <string>

#include "smtpclient/reply.h"

namespace postern::smtpclient {

Reply LocalReply(int code, std::string enhanced, std::string text);

}  // namespace postern::smtpclient
