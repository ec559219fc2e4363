// stale-while-revalidate (RFC 5861 §3): after a stale entry answered the client, a detached
// coroutine on the same network thread sends the conditional request and refreshes the entry
// (304), replaces it (a storable 200 with the same Vary), or erases it (anything else that is
// not a 5xx). It holds the collapsed-forwarding lease of the entry's revalidation key, so one
// background revalidation runs per key, and background_revalidation_timeout bounds it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>
#include <string>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"
#include "proxy/collapsed_fetches.hpp"
#include "proxy/origin_pool.hpp"
#include "proxy/request_target.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

// request_fields: the client request's header fields (its Vary-nominated fields select the
// variant stored under key); copied, as are target and stale.
void start_background_revalidation(Services& services, OriginPool& origins,
                                   const boost::asio::any_io_executor& executor,
                                   const RequestTarget& target, bool check_destination,
                                   const std::string& key, const cache::EntryMeta& stale,
                                   const cache::CachedObjectPtr& object,
                                   const Fields& request_fields,
                                   CollapsedFetches::Lease lease);

}  // namespace cacheproxy
