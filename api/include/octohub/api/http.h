// The HTTP layer's types as the API speaks them (octohub/http/): routes, requests, replies.
#pragma once

#include "octohub/http/http_server.h"

namespace octohub::api {

using http::Authorizer;
using http::HttpServer;
using http::HttpServerOptions;
using http::JsonReply;
using http::ParseIdParam;
using http::ProblemReply;
using http::Reply;
using http::ReplyForStatus;
using http::RequestView;
using http::Role;
using http::Route;

}  // namespace octohub::api
