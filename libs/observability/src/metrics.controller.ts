import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DanubeMetrics } from './metrics';
import { PublicRoute } from './public-route';

/**
 * GET /metrics in the Prometheus text format. Open without a key, like the health checks:
 * serve it on an internal network only (README "Security").
 */
@ApiExcludeController()
@PublicRoute()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: DanubeMetrics) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.expose();
    res.setHeader('Content-Type', contentType);
    // end(), not send(): send() would add a charset to Prometheus' content type.
    res.end(body);
  }
}
