package dev.newsindexer.banner;

import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.rest.action.RestBuilderListener;
import org.elasticsearch.xcontent.XContentBuilder;

import java.util.List;

import static org.elasticsearch.rest.RestRequest.Method.GET;
import static org.elasticsearch.rest.RestRequest.Method.HEAD;

/** {@code GET /} and {@code HEAD /}: pretty-printed banner unless the caller passes {@code ?pretty=false}. */
final class RestBannerAction extends BaseRestHandler {

    @Override
    public String getName() {
        return "root_banner_action";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(GET, "/"), new Route(HEAD, "/"));
    }

    @Override
    public boolean canTripCircuitBreaker() {
        return false;
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        boolean pretty = request.hasParam("pretty") == false;
        return channel -> client.execute(RootBannerPlugin.BANNER_ACTION, new BannerRequest(), new RestBuilderListener<>(channel) {
            @Override
            public RestResponse buildResponse(BannerResponse response, XContentBuilder builder) throws Exception {
                if (pretty) {
                    builder.prettyPrint().lfAtEnd();
                }
                return new RestResponse(RestStatus.OK, response.toXContent(builder, request));
            }
        });
    }
}
